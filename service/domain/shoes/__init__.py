"""Shoes: wear, a replacement forecast and the nudges that follow it.

`rules` forecasts wear on plain data; `messages` words the nudges; `records` reads an athlete's
pairs with their wear and keeps them in order.
"""
