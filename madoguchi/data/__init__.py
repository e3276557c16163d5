"""Data shipped with the package: the sample catalog of the fictional みどり市 (municipality 999999)."""
