"""Automated accessibility checks of a page in Chromium: text contrast (WCAG 2 ≥ 4.5:1), labels, legends,
the page language and touch-target size. Each returns a list of findings (empty: fine)."""

from __future__ import annotations

from playwright.sync_api import Page

__all__ = ["CHECK_PAGE", "findings"]

# Runs in the page: the effective background is the first opaque background up the tree (white at the top).
CHECK_PAGE = r"""
(minTarget) => {
  const out = [];
  const rgb = (s) => (s.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.99)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  for (const el of document.querySelectorAll('body *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    if (!own || box.width === 0 || box.height === 0) continue;
    const fg = rgb(getComputedStyle(el).color).slice(0, 3);
    const [a, b] = [lum(fg), lum(background(el))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) out.push(`contrast ${ratio.toFixed(2)} < 4.5: <${el.tagName.toLowerCase()}> ${el.textContent.trim().slice(0, 40)}`);
  }
  for (const input of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const label = input.id && document.querySelector(`label[for="${input.id}"]`);
    if (!label || !label.textContent.trim()) out.push(`no label: ${input.name}=${input.value}`);
    const row = input.closest('.choice') || input;
    if (row.getBoundingClientRect().height < minTarget) out.push(`small target: ${input.name}=${input.value}`);
  }
  for (const fs of document.querySelectorAll('fieldset')) {
    const legend = fs.querySelector('legend');
    if (!legend || !legend.textContent.trim()) out.push('fieldset without legend');
  }
  for (const el of document.querySelectorAll('button, main a, nav a')) {
    if (el.getBoundingClientRect().height < minTarget) out.push(`small target: ${el.textContent.trim().slice(0, 30)}`);
  }
  if (!document.documentElement.lang) out.push('no lang attribute on <html>');
  return out;
}
"""


def findings(page: Page, min_target_px: int = 44) -> list[str]:
    """What the page fails of the checks above."""
    found: list[str] = page.evaluate(CHECK_PAGE, min_target_px)
    return found
