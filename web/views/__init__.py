"""The pages, one module per family. Each view parses input, goes through the door
(workflow.access), calls one service or selector, and renders. No business rules and no ORM writes
live here; what a button offers is the service's answer, never the view's.

Missing and forbidden objects are both a 404, so an id reveals nothing.
"""
