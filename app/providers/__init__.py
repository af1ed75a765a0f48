"""AI providers behind one small interface (``base``), listed in one table (``registry``)."""
