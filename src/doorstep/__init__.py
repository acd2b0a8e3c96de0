"""doorstep (家门口): the open platform for a city's community service centers."""
