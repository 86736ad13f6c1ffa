"""What an asset's page in the Dagster UI shows, read from the page in a `HeadlessChromium`: the rows of its tables
(the columns, the metadata of the latest materialization and a markdown preview are HTML tables) and the points of
a metadata plot (Chart.js draws on a canvas; the points are the `data` its React component was given).
"""

from __future__ import annotations

import json

from medrobotics_dagster_tests.ui.headless_chromium import HeadlessChromium

TABLE_ROWS = (
    "JSON.stringify(Array.from(document.querySelectorAll('tr'))"
    ".map(row => Array.from(row.cells).map(cell => cell.innerText.trim())).filter(cells => cells.length))"
)
CLICK_BUTTON = """(() => {
  const buttons = Array.from(document.querySelectorAll('button')).filter(b => b.textContent.trim() === %s);
  if (!buttons.length) return false;
  buttons[buttons.length - 1].scrollIntoView();
  buttons[buttons.length - 1].click();
  return true;
})()"""
# The plot under a heading: the canvas in the heading's nearest enclosing box that has one, and the chart data its
# react-chartjs-2 component received, as [x, y] points: x a partition key (by partition) or a time in milliseconds
# (by time), y null where there is nothing to draw.
PLOT_DATA = """(() => {
  const heading = Array.from(document.querySelectorAll('*'))
    .find(e => e.childElementCount === 0 && e.textContent === %s);
  let box = heading;
  while (box && !box.querySelector('canvas')) box = box.parentElement;
  const canvas = box && box.querySelector('canvas');
  if (!canvas) return null;
  const fiber = canvas[Object.keys(canvas).find(k => k.startsWith('__reactFiber'))];
  const data = fiber && fiber.return && fiber.return.memoizedProps.data;
  if (!data) return null;
  canvas.scrollIntoView();
  return JSON.stringify(data.datasets[0].data.map((point, i) => [data.labels ? data.labels[i] : point.x, point.y]));
})()"""


def table_rows(browser: HeadlessChromium) -> list[list[str]]:
    """Every row of every table on the page, as the texts of its cells."""
    return json.loads(browser.evaluate(TABLE_ROWS))


def metadata_value(rows: list[list[str]], key: str) -> str:
    """The value of a metadata entry in the page's metadata table (rows of key, timestamp, value)."""
    return next(cells[-1] for cells in rows if len(cells) == 3 and cells[0] == key)


def scroll_to(browser: HeadlessChromium, text: str) -> None:
    """Scroll the element whose whole text is `text` into view (for the screenshot)."""
    found = (
        "Array.from(document.querySelectorAll('body *'))"
        f".find(e => e.childElementCount === 0 && e.textContent.trim() === {json.dumps(text)})"
    )
    browser.evaluate(f"(({found}) || document.body).scrollIntoView()")


def click_button(browser: HeadlessChromium, text: str, timeout: float = 60) -> None:
    """Click the (last) button labelled `text`, once there is one."""
    browser.wait_for(CLICK_BUTTON % json.dumps(text), timeout=timeout)


def plotted_points(browser: HeadlessChromium, label: str, expected_points: int, timeout: float = 60) -> dict:
    """{x: y} of the plot headed `label`, once it draws `expected_points` points (the plots load after the page)."""
    script = PLOT_DATA % json.dumps(label)
    condition = f"JSON.parse({script} || '[]').filter(([x, y]) => y !== null).length >= {expected_points}"
    browser.wait_for(condition, timeout=timeout)
    return {x: y for x, y in json.loads(browser.evaluate(script)) if y is not None}
