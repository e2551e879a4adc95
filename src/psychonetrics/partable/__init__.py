"""The parameter table and what builds it: matrix specs, patterns, numbering, start values, edits."""
