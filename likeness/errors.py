"""The one error type every package raises for bad input; the CLI prints it as a single line."""


class UserError(Exception):
    """A problem with what the user gave us (missing file, no face, silent audio...).

    The message names the problem and, where possible, what to do about it.
    """

