/*
 * eTMA Helper on the OSCAR marks page — the small chart beside each student: per question a pair
 * of bars, the first marker's then the second's, each as tall as the mark is of that question's
 * maximum, so a question the markers disagree on stands out at a glance whatever its maximum. A
 * mark not given yet is an empty dashed outline. The chart's title and description name every
 * number, for a screen reader and for a tooltip.
 *
 * `bars` and `describe` are pure (tests/js/chart.test.mjs); `build` makes the inline SVG with
 * createElementNS, never from markup. Adds oscar.chart to globalThis.etmaOscar.
 */
"use strict";

(() => {
  const oscar = globalThis.etmaOscar;
  if (Object.isFrozen(oscar)) return; // already running in this world: see content/oscar.js

  const SVG = "http://www.w3.org/2000/svg";
  /** Sizes in CSS pixels: a bar, the space between a pair, the space between questions. */
  const SIZE = Object.freeze({ bar: 8, pairGap: 1, groupGap: 7, plot: 36, label: 11, pad: 2 });
  const COLOURS = Object.freeze({ first: "#0a4d8c", second: "#d98a00", missing: "#7b8a99", axis: "#9aa8b6" });

  /**
   * @typedef {Object} QuestionMarks
   * @property {string} question  its name as the page shows it ("Q1")
   * @property {number} maximum   above 0
   * @property {number|null} first   the first marker's mark; null when not given
   * @property {number|null} second  the second marker's mark; null when not given
   *
   * @typedef {Object} Bar
   * @property {string} question
   * @property {"first"|"second"} marker
   * @property {number|null} mark
   * @property {number} maximum
   * @property {number} x  @property {number} y  @property {number} width  @property {number} height
   * @property {boolean} missing  no mark: drawn as an outline the full height
   */

  /**
   * Where each bar goes: for each question the first marker's bar, then the second's, each of
   * height plot·mark/maximum (a mark outside 0..maximum is drawn clipped to it), standing on the
   * same baseline.
   * @param {QuestionMarks[]} questions
   * @returns {{bars: Bar[], width: number, height: number, baseline: number}}
   */
  function bars(questions) {
    const result = [];
    const baseline = SIZE.pad + SIZE.plot;
    questions.forEach((question, index) => {
      const left = SIZE.pad + index * (2 * SIZE.bar + SIZE.pairGap + SIZE.groupGap);
      for (const [offset, marker] of [[0, "first"], [SIZE.bar + SIZE.pairGap, "second"]]) {
        const mark = question[marker];
        const missing = mark === null || mark === undefined || !Number.isFinite(mark);
        const share = missing ? 1 : Math.min(Math.max(mark / question.maximum, 0), 1);
        const height = Math.round(share * SIZE.plot * 100) / 100;
        result.push({ question: question.question, marker, mark: missing ? null : mark,
          maximum: question.maximum, x: left + offset, y: baseline - height, width: SIZE.bar,
          height, missing });
      }
    });
    const width = SIZE.pad * 2 + Math.max(questions.length, 1) * (2 * SIZE.bar + SIZE.pairGap)
      + Math.max(questions.length - 1, 0) * SIZE.groupGap;
    return { bars: result, width, height: baseline + SIZE.label + SIZE.pad, baseline };
  }

  /** A mark as the page shows it: 7, 7.5; "no mark" when there is none. */
  const markWords = (mark) => (mark === null ? "no mark" : String(mark));

  /**
   * The chart in words: "Q1 (out of 10): first 7, second 4. Q2 …".
   * @param {QuestionMarks[]} questions
   */
  function describe(questions) {
    return questions.map((q) => `${q.question} (out of ${q.maximum}): first ${markWords(q.first)}, `
      + `second ${markWords(q.second)}.`).join(" ");
  }

  function svgElement(tag, attributes = {}, text = "") {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    if (text) node.textContent = text;
    return node;
  }

  /**
   * The inline SVG for one student. `who` names them in the title ("Ada Lovelace (P1234567)").
   * @param {QuestionMarks[]} questions
   * @param {string} who
   * @returns {SVGSVGElement}
   */
  function build(questions, who) {
    const { bars: placed, width, height, baseline } = bars(questions);
    const id = `etma-chart-${Math.random().toString(36).slice(2, 10)}`;
    const svg = svgElement("svg", { class: "etma-helper-chart", width, height,
      viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": `${id}-title ${id}-desc` });
    svg.append(
      svgElement("title", { id: `${id}-title` }, `Marks by question for ${who}: first marker (blue) and second marker (orange), as a share of each question's maximum`),
      svgElement("desc", { id: `${id}-desc` }, describe(questions)),
      svgElement("line", { x1: 0, x2: width, y1: baseline + 0.5, y2: baseline + 0.5,
        stroke: COLOURS.axis, "stroke-width": 1 }),
    );
    for (const bar of placed) {
      const shape = svgElement("rect", { x: bar.x, y: bar.y, width: bar.width, height: bar.height,
        "data-question": bar.question, "data-marker": bar.marker,
        "data-mark": bar.mark === null ? "" : bar.mark, "data-maximum": bar.maximum });
      if (bar.missing) {
        shape.setAttribute("fill", "none");
        shape.setAttribute("stroke", COLOURS.missing);
        shape.setAttribute("stroke-dasharray", "2 2");
      } else {
        shape.setAttribute("fill", COLOURS[bar.marker]);
      }
      shape.append(svgElement("title", {}, `${bar.question}, ${bar.marker} marker: `
        + `${bar.mark === null ? "no mark yet" : `${bar.mark} of ${bar.maximum}`}`));
      svg.append(shape);
    }
    questions.forEach((question, index) => {
      const first = placed[index * 2];
      svg.append(svgElement("text", { x: first.x + SIZE.bar + SIZE.pairGap / 2, y: height - SIZE.pad - 1,
        "text-anchor": "middle", "font-size": 9, fill: "#333", "aria-hidden": "true" },
      question.question.slice(0, 4)));
    });
    return svg;
  }

  oscar.chart = Object.freeze({ bars, describe, build, SIZE });
})();
