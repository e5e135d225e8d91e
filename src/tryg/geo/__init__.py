"""tryg.geo: area geometry for point-in-area assignment and area containment.

Pure core: parsed JSON and coordinate arrays in, codes and shapely geometries out; no files
(readers in :mod:`tryg.readers` load them). Everything is kept in WGS84 lon/lat. The usual
path::

    from tryg import geo
    layer = geo.dissolve(codes, geometries)           # islands → one area per code
    x, y = geo.reproject(east, north, geo.UTM32)      # ETRS89 / UTM32 → lon/lat
    codes = geo.assign_points(layer, x, y)            # None where outside every area
    kommune_of = geo.contained_in(sogne, kommuner)    # largest overlap
"""

from tryg.geo.assign import area_index, assign_points
from tryg.geo.containment import contained_in, overlap_shares
from tryg.geo.crs import UTM32, WGS84, is_lonlat, reproject
from tryg.geo.errors import GeometryError
from tryg.geo.features import Feature, crs_name, features_from_geojson, geometry_from_geojson
from tryg.geo.layer import AreaGeometry, dissolve, polygonal
from tryg.geo.topojson import features_from_topojson

__all__ = [
    "UTM32",
    "WGS84",
    "AreaGeometry",
    "Feature",
    "GeometryError",
    "area_index",
    "assign_points",
    "contained_in",
    "crs_name",
    "dissolve",
    "features_from_geojson",
    "features_from_topojson",
    "geometry_from_geojson",
    "is_lonlat",
    "overlap_shares",
    "polygonal",
    "reproject",
]
