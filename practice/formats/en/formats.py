"""How the admin writes and reads dates and times in English.

Django renders every date and time field of a change list, a read-only field
and a form with these; what is not set here falls back to Django's own English
formats. Times read "9:00 AM" everywhere (never "09:00:00" or "9 a.m."), and
times of day are typed as "9:00 AM", "9 am" or "09:00".
"""

# "Tue, Jan 5, 2027", "9:00 AM", "Tue, Jan 5, 2027, 9:00 AM"
DATE_FORMAT = "D, M j, Y"
TIME_FORMAT = "g:i A"
DATETIME_FORMAT = "D, M j, Y, g:i A"
SHORT_DATE_FORMAT = "m/d/Y"
SHORT_DATETIME_FORMAT = "m/d/Y g:i A"

# The first format is also how a time input shows its value (the admin's
# time widget shows "9:00 AM" through its own widget, without the zero).
TIME_INPUT_FORMATS = [
    "%I:%M %p",  # '9:00 AM', '09:00 pm'
    "%I:%M%p",  # '9:00AM'
    "%I %p",  # '9 AM'
    "%I%p",  # '9am'
    "%H:%M",  # '14:30'
    "%H:%M:%S",  # '14:30:59'
    "%H:%M:%S.%f",  # '14:30:59.000200'
]
