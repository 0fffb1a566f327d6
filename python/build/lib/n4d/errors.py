"""Exceptions: one class per n4d_status code, all under n4d.Error."""


class Error(Exception):
    """An n4d call failed.

    ``status`` is the negative n4d_status code, ``status_name`` its static
    description (n4d_status_string) and ``detail`` the text of n4d_last_error
    on the handle at fault (which key, file, line and column, which limit);
    ``str(e)`` gives the detail, or the description when there is none.
    """

    status = None

    def __init__(self, detail="", status=None, status_name=""):
        if status is not None:
            self.status = status
        self.detail = detail
        self.status_name = status_name
        super().__init__(detail or status_name or "n4d error %s" % self.status)


class InvalidArgError(Error, ValueError):
    """N4D_E_INVALID_ARG: a NULL or out-of-range argument."""
    status = -1


class NoMemError(Error, MemoryError):
    """N4D_E_NOMEM: an allocation failed."""
    status = -2


class ConfigError(Error, ValueError):
    """N4D_E_CONFIG: a config is malformed or inconsistent (the message names
    file:line:column and the key path)."""
    status = -3


class IoError(Error):
    """N4D_E_IO: a file could not be read or written."""
    status = -4


class NotBuiltError(Error):
    """N4D_E_NOT_BUILT: the feature or backend was not built in."""
    status = -5


class NoDeviceError(Error):
    """N4D_E_NO_DEVICE: the backend has no usable device."""
    status = -6


class RangeError(Error, ValueError):
    """N4D_E_RANGE: an index, step or size is out of range."""
    status = -7


class StateError(Error):
    """N4D_E_STATE: the call is not valid in the current state."""
    status = -8


class ClosedError(StateError):
    """The handle was closed (close(), a with block's end, or its model was
    closed); raised by the bindings, the library is not called."""


class UnsupportedError(Error):
    """N4D_E_UNSUPPORTED: a valid request that this version cannot do."""
    status = -9


class FormatError(Error):
    """N4D_E_FORMAT: a file has the wrong format or content."""
    status = -10


class InternalError(Error):
    """N4D_E_INTERNAL: a bug in n4d (please report it)."""
    status = -11


class LimitError(Error):
    """N4D_E_LIMIT: a size exceeds an implementation limit."""
    status = -12


BY_STATUS = {cls.status: cls for cls in [
    InvalidArgError, NoMemError, ConfigError, IoError, NotBuiltError, NoDeviceError,
    RangeError, StateError, UnsupportedError, FormatError, InternalError, LimitError]}
