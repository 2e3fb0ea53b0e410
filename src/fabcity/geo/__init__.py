"""Geography: distances, grid cells, districts and stations."""
