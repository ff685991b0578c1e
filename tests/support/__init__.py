"""What the tests share: record builders, the schema validator, waiting, a real Mosquitto, and
the tiny models behind the shipped test bundles."""
