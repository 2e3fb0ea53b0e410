"""Import and export formats. Each reader turns a file into (where, record) pairs in the NodeIn shape;
validation, placement and storage are shared (see directory.importer)."""
