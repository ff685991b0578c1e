"""The ``edge`` command's subcommands that are more than a few lines (``edge.cli`` maps them).

args.py       argparse value types shared by the subcommands
images.py     edge classify, edge colors: the device's stages on image files
bench.py      edge bench: per-stage latency, frames per second and memory on this device
calibrate.py  edge calibrate: a camera's anomaly threshold from frames of its own scene
doctor.py     edge doctor: can this machine run the daemon, and what fixes it
service.py    edge service install: the systemd unit and the example config
tail.py       edge tail: follow the results from the files or a broker
"""
