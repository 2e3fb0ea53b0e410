"""The directory of production nodes: what each makes, with which machines and materials, where, and how to get in.

Nodes follow Open Know-Where; they are searched (search.py), imported and exported (importer.py,
exporter.py, formats/), and edited by their hosts and the council's curators (editing.py).
"""
