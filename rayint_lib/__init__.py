"""rayint_lib: an executable reproduction of Schaul et al. (2019), *Ray Interference*."""
__version__ = "0.1.0"
