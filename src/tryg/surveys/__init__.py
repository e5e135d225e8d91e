"""Surveys: waves (fieldwork, producer, questionnaire) and their responses."""
