"""review room of nq71-monitor (see DESIGN.md)."""
