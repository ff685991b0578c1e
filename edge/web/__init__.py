"""The pictures and the local page: what the camera sees, for a person and for Prometheus.

    config     the ``[web]`` section (listen address, token, picture width)
    annotate   the annotated picture of a frame and its record (OpenCV), and its JPEG
    views      per camera: the newest frame and record (references, no copies), a short
               history, latency buckets, the JPEG of the newest picture once encoded
    publisher  PicturesPublisher, the daemon's side: views, snapshots, the HTTP server
    server     the HTTP server (the standard library's ThreadingHTTPServer) and its routes
    api        /api/status and /healthz as data
    metrics    /metrics: a Prometheus collector that reads the views when scraped
    static/    the page: HTML, CSS and a little JavaScript, no build step, nothing external

Nothing here is imported until the daemon starts the pictures; ``edge`` stays fast to import.
"""
