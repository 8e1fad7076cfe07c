"""The bottom layer: grid, cells, typed records, settings, endpoints, file formats, the docker CLI, the project root."""
