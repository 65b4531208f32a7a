"""Supervised and self-supervised models trained with ``rlsuite fit`` (CNN, transformer, GANs,
auto-encoders, SimCLR, BYOL, masked modelling): the second half of the lecture.

- :mod:`rlsuite.supervised.data` loads the data with fixed splits;
- :mod:`rlsuite.supervised.registry` names the models and holds their interface;
- :mod:`rlsuite.supervised.fit` trains them into run folders.

Importing this package loads no torch; its modules do.
"""
