"""Root-cause ranking of an incident's nodes and changes, with evidence."""
