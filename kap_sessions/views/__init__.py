"""The client portal's pages, one module per area (``access`` guards them all)."""
