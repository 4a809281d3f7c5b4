"""What a person reads: replies, buttons, callback data, command menus and renderers."""
