"""The MQTT publisher and its parts (paho is imported by client.py only).

publisher.py      MqttPublisher: records into the outbox, out to the broker, in order
client.py         Session: one paho client, connect with backoff, TLS and credentials
settings.py       the resolved broker settings (URL, client id, password, topics)
outbox.py         the durable SQLite outbox: nothing lost while the broker is away
topics.py         topic names; ChangeFilter (publish on change, with a heartbeat)
stats.py          the periodic stats message
homeassistant.py  Home Assistant device-based discovery
"""
