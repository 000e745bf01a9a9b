"""The ground floor of the web app: what every app's pages share.

Base tables and their links, date-range forms, number, duration and time
formatting, and the template tags over them. Domain apps import from here;
this package imports no domain app.
"""
