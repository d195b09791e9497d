"""The runtime: how a tool call becomes a worker job (dispatch, runner, pools, Ray) and where results live."""
