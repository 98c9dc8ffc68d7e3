"""CSV import of targets and partners, with a row-level error report.

csv_import.py  pure: decoding, header matching, per-row validation with the API's own
               pydantic create schemas, duplicates within the file, size limits
service.py     the import run: creates through the slices' services inside savepoints;
               dry run, all-or-nothing (default) or partial
api.py cli.py  ``POST /api/v1/corporate/{targets,partners}/import`` and
               ``novacron corporate import targets|partners FILE``
"""
