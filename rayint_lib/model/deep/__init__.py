"""Neural-network policies in JAX (Sec. 3.3, App. A): MLP policies for the (K x n) bandit,
the multi-room environment as pure functions, and trainers that run many seeds at once.

Every training run is one jitted function (``lax`` loops over updates); seeds are a ``vmap``
axis and their keys are split from the ``seed`` parameter. The same code runs on a GPU when
``jax[cuda]`` is installed (nothing here names a device).
"""
