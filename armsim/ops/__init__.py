"""The op registry: one op kind, one module (``conv2d``, ``depthwise_conv2d``,
``fully_connected``, ``max_pool2d``, ``avg_pool2d``, ``add``, ``mul``, ``concat``, ``pad``,
``reshape``, ``activation``, ``scale_shift``, ``mean``, ``reduce_max``), each holding
everything armsim knows about its kind: attributes and MACs, the numpy reference, its Keras
layer and TFLite operator mappings, what it needs from the plan, and its float32 and int8 C
rendering (``base`` says what a kind is). ``registry`` looks them up; ``activations``,
``cgen`` and the ``_``-prefixed modules hold what several kinds share."""
