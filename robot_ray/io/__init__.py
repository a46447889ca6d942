"""The io layer: atomic local writes, versioned JSON state, storage URIs. Imports nothing above it."""
