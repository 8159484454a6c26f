"""Audio files and streams: probing in confined workers, the formats table, cutting and muting; never recordings."""
