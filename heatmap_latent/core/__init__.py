"""The bottom layer: errors, config-value checks, atomic writes, where ``conf/`` is, shared plotting.

Every other layer may import it; it imports no other part of the package.
"""
