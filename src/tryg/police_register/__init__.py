"""The police register: record-level extracts and counts per area × quarter × offence."""
