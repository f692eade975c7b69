"""The `match` fixture: each FIFO example runs on `match_fifo` (the compiled loop where it was built) and on
`match_fifo_in_python`, the reference loop, so that a rule broken in either is caught by name."""

import pytest

from actors.pnl_calculator.fifo import match_fifo, match_fifo_in_python


@pytest.fixture(params=[match_fifo, match_fifo_in_python], ids=["match_fifo", "python_loop"])
def match(request):
    return request.param
