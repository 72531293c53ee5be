"""The canvas geometry without Qt: grid and edge snapping with guides, resize, align,
distribute, rubber-band hits."""

from __future__ import annotations

from hmi.model.design.geometry import (
    Guide,
    Snap,
    align,
    bounds,
    distribute,
    hits,
    resize,
    snap_move,
    snap_resize,
)


def test_grid_snap_rounds_the_corner_to_the_grid() -> None:
    x, y, guides = snap_move((23.0, 47.0, 50, 20), [], Snap(grid=10))
    assert (x, y, guides) == (20.0, 50.0, ())
    x, y, _ = snap_move((23.0, 47.0, 50, 20), [], Snap(grid=25))
    assert (x, y) == (25.0, 50.0)


def test_alt_places_it_where_the_pointer_put_it() -> None:
    assert snap_move((23.0, 47.0, 50, 20), [(0, 0, 10, 10)], None) == (23.0, 47.0, ())


def test_an_edge_within_reach_beats_the_grid_and_draws_a_guide() -> None:
    other = (100.0, 200.0, 40, 40)
    # its left edge 104 is 4 px from the other's left edge: there, not to the grid's 100/110
    x, y, guides = snap_move((104.0, 10.0, 60, 20), [other], Snap(grid=25, reach=6))
    assert x == 100.0
    assert y == 0.0  # no edge near on y: the grid
    assert guides == (Guide("x", 100.0, 0.0, 240.0),)


def test_centres_snap_to_centres() -> None:
    other = (0.0, 0.0, 100, 100)  # centre 50, 50
    x, _y, guides = snap_move((28.0, 300.0, 40, 10), [other], Snap(grid=0, reach=6))
    assert x == 30.0  # its centre 48 -> 50
    assert Guide("x", 50.0, 0.0, 310.0) in guides


def test_resize_moves_only_the_handle_edges_and_keeps_a_least_size() -> None:
    assert resize((10, 10, 50, 50), "se", 5, 7) == (10, 10, 55, 57)
    assert resize((10, 10, 50, 50), "nw", 5, 7) == (15, 17, 45, 43)
    assert resize((10, 10, 50, 50), "e", -80, 0) == (10, 10, 1, 50)
    assert resize((10, 10, 50, 50), "n", 0, 100) == (10, 59, 50, 1)


def test_snap_resize_snaps_the_moving_edge() -> None:
    rect, guides = snap_resize((10, 10, 53, 50), "e", [], Snap(grid=10))
    assert rect == (10, 10, 50, 50) and guides == ()
    rect, guides = snap_resize((10, 10, 53, 50), "e", [(65, 200, 10, 10)], Snap(grid=10))
    assert rect == (10, 10, 55, 50)  # the other's left edge at 65 beats the grid's 60
    assert guides[0].axis == "x" and guides[0].at == 65


def test_align_and_distribute() -> None:
    rects = [(10.0, 0.0, 20, 10), (50.0, 30.0, 40, 10), (200.0, 60.0, 10, 10)]
    assert [r[0] for r in align(rects, "left")] == [10, 10, 10]
    assert [r[0] + r[2] for r in align(rects, "right")] == [210, 210, 210]
    assert [r[0] + r[2] / 2 for r in align(rects, "hcenter")] == [110, 110, 110]
    assert [r[1] for r in align(rects, "bottom")] == [60, 60, 60]
    spread = distribute(rects, "x")
    gaps = [spread[1][0] - (spread[0][0] + 20), spread[2][0] - (spread[1][0] + 40)]
    assert gaps[0] == gaps[1] == 65
    assert spread[0][0] == 10 and spread[2][0] == 200  # the outermost stay
    assert distribute(rects[:2], "x") == rects[:2]
    assert bounds(rects) == (10, 0, 200, 70)


def test_rubber_band_hits_what_it_touches() -> None:
    rects = [(0.0, 0.0, 10, 10), (20.0, 20.0, 10, 10), (100.0, 100.0, 5, 5)]
    assert hits(rects, (5, 5, 20, 20)) == [0, 1]
    assert hits(rects, (11, 11, 8, 8)) == []
