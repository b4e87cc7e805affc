"""Running firmware: a build on one engine (``session``: Session, Result), profiles
(``profile``), any firmware image to its first stop (``image_run``) and the regression
gate (``regress``)."""
