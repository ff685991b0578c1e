"""The per-frame work: models in an interpreter, and the dominant colors.

    runtime.py     the ONE place that imports a TFLite interpreter (LiteRT, tflite-runtime,
                   tensorflow.lite, first that works)
    bundle.py      the model bundle: NAME.tflite + NAME.json, checked against each other
    preprocess.py  frame -> input tensor (crop, resize, color order, quantize) and back
    model.py       a bundle's model in an interpreter: run(rgb) -> dequantized output
    classify.py    Classifier: top-k labels with real probabilities
    anomaly.py     AnomalyDetector: reconstruction error against the bundle's threshold
    colors.py      dominant colors (ColorTracker for video), on kmeans.py's batched k-means

Nothing here is imported by ``import edge``: the interpreter, OpenCV and NumPy load with the
stage that needs them.
"""
