"""CSV import and export of contacts with their companies (CSV_FORMAT.md)."""
