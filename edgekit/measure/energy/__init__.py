"""Energy meters. Each integrates power over exactly the timed window of a measurement."""
