"""clusterbot's kernel and edges: messages in, replies out, storage, rendering and entry points."""
