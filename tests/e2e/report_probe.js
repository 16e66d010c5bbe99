// report_probe.js - test_report_html.sh appends this to a copy of report.html (the report itself
// has no script). It runs in headless Chromium after layout and writes its verdict into
// <pre id="probe">, which --dump-dom then shows: one line per plot, "ok ID ..." or "FAIL ID: why",
// then "probe done". A plot passes when its <svg> is laid out at a readable size, holds drawn
// marks (a line of two or more points, points, or bars of non-zero height) inside the plot, has
// tick labels and an axis unit, and no two of its upright labels overlap or leave the picture.
// The five plots every report has are checked, then any other <svg class="plot"> on the page
// (throttling, backoff, faults-by-class when the run had them).
(function () {
    "use strict";
    var plots = ["latency-over-time", "requests-over-time", "latency-per-command", "outcomes",
        "bytes-per-device"];
    document.querySelectorAll("svg.plot").forEach(function (svg) {
        if (svg.id && plots.indexOf(svg.id) < 0)
            plots.push(svg.id);
    });
    var lines = [];

    function overlap(a, b) {
        var w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        var h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        return w > 1 && h > 1;
    }

    function check(id) {
        var svg = document.getElementById(id);
        if (!svg || svg.tagName.toLowerCase() !== "svg")
            return "missing";
        var box = svg.getBoundingClientRect();
        if (box.width < 300 || box.height < 150)
            return "laid out at " + box.width + "x" + box.height;
        // drawn marks, and the box around them
        var marks = 0, left = Infinity, right = -Infinity, top = Infinity, bottom = -Infinity;
        svg.querySelectorAll("polyline.series, circle.point, rect.bar").forEach(function (m) {
            var tag = m.tagName.toLowerCase();
            if (tag === "polyline" && m.points.numberOfItems < 2)
                return;
            var r = m.getBoundingClientRect();
            if (tag === "rect" && r.height < 1)
                return;
            if (r.width <= 0 && r.height <= 0)
                return;
            if (r.left < box.left || r.right > box.right || r.top < box.top ||
                r.bottom > box.bottom)
                throw new Error(id + ": a " + tag + " lies outside the picture");
            marks++;
            left = Math.min(left, r.left);
            right = Math.max(right, r.right);
            top = Math.min(top, r.top);
            bottom = Math.max(bottom, r.bottom);
        });
        if (marks === 0)
            return "no drawn content";
        if (right - left < 20 && bottom - top < 20)
            return "drawn content is a speck (" + (right - left) + "x" + (bottom - top) + ")";
        // labels: ticks, the unit, none overlapping another or cut off
        var ticks = 0, units = 0, upright = [];
        var texts = svg.querySelectorAll("text");
        for (var i = 0; i < texts.length; i++) {
            var t = texts[i], r = t.getBoundingClientRect();
            if (t.textContent.trim() === "")
                continue;
            if (t.classList.contains("tick"))
                ticks++;
            if (t.classList.contains("unit"))
                units++;
            if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 ||
                r.bottom > box.bottom + 0.5)
                return "label '" + t.textContent + "' is cut off";
            if (t.hasAttribute("transform"))
                continue;
            for (var j = 0; j < upright.length; j++)
                if (overlap(r, upright[j].r))
                    return "labels '" + upright[j].s + "' and '" + t.textContent + "' overlap";
            upright.push({r: r, s: t.textContent});
        }
        if (ticks < 3 || units < 1)
            return ticks + " tick labels and " + units + " axis units";
        return "ok " + marks + " marks over " + Math.round(right - left) + "x" +
            Math.round(bottom - top) + " px, " + ticks + " ticks";
    }

    plots.forEach(function (id) {
        var verdict;
        try {
            verdict = check(id);
        } catch (e) {
            verdict = String(e.message);
        }
        lines.push(verdict.indexOf("ok ") === 0 ? "ok " + id + " " + verdict.slice(3)
            : "FAIL " + id + ": " + verdict);
    });
    lines.push("probe done");
    var pre = document.createElement("pre");
    pre.id = "probe";
    pre.textContent = "\n" + lines.join("\n") + "\n";
    document.body.appendChild(pre);
})();
