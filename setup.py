"""The optional compiled FIFO loop; everything else is in pyproject.toml.

`optional=True`: where no C compiler is found the install goes on, and `match_fifo` runs its Python loop
(`actors.pnl_calculator.fifo.COMPILED` says which, and the service logs it at start).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "actors.pnl_calculator._fifo_match",
            sources=["actors/pnl_calculator/_fifo_match.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
            optional=True,
        )
    ]
)
