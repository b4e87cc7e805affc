"""TensorFlow Lite Micro on the emulated chip: the pinned TFLM tree and its dependencies
(``tree``), its libraries built per CPU (``library``: the kernel-independent core once, the
kernels per set: TFLM's CMSIS-NN kernels or its reference ones), the operators TFLM registers
(``resolver``), and the application that runs a model (``app``, ``build``)."""
