"""The model and its host side: the frontends that read a Keras or TFLite file into a graph
(``frontends``), the host references (Keras, the TFLite interpreter, the numpy
``reference``), MNIST, the bundled zoo, training and quantization. TensorFlow and Keras are
imported only inside the functions that need them (``tfimport``)."""
