// Reads DICOM SR files with dcmjs, as OHIF does, and prints what its Cornerstone3D adapters see.
//
// Usage: node read_sr.js FILE.dcm...
// Prints one JSON object: {"files": [{"path", "groups", "loaded", "error", "lengths": [...]}]}.
// "loaded" is whether MeasurementReport.generateToolState read the whole SR without throwing
// (dcmjs 0.52 has no per-group error handling: one bad group loses the SR). Each length is what
// the Length adapter rebuilt: its value, unit, image and points, with two labels:
//   - "label": the group's Comment (DCM 121106), the label Cornerstone3D's current adapters
//     (getCornerstoneLabelFromDefaultState) and OHIF show;
//   - "dcmjsLabel": the label dcmjs' own adapter derives (free-text finding sites only).
"use strict";

const fs = require("fs");
const dcmjs = require("dcmjs");

const { MeasurementReport, Length } = dcmjs.adapters.Cornerstone3D;
const COMMENT = { scheme: "DCM", value: "121106" };

function asArray(value) {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function codeOf(item) {
  const seq = asArray(item.ConceptNameCodeSequence)[0] || {};
  return { scheme: seq.CodingSchemeDesignator, value: seq.CodeValue, meaning: seq.CodeMeaning };
}

function quietly(fn) {
  // the adapters console.log every measurement they build; keep stdout for the JSON
  const log = console.log;
  console.log = () => {};
  try {
    return fn();
  } finally {
    console.log = log;
  }
}

function read(path) {
  const bytes = fs.readFileSync(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const message = dcmjs.data.DicomMessage.readFile(buffer);
  const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict);
  dataset._meta = dcmjs.data.DicomMetaDictionary.namifyDataset(message.meta);
  return dataset;
}

// The viewer's side of the adapter API: every SOP instance is an image id, points stay in
// image coordinates (the test checks values and labels, not rendering).
const imageIds = new Proxy({}, { get: (_, uid) => `sop:${String(uid)}` });
const imageToWorldCoords = (imageId, point) => [point[0], point[1], 0];
const metadata = { get: () => ({ frameOfReferenceUID: "unused" }) };

function describe(path) {
  const out = { path, groups: 0, loaded: false, error: null, lengths: [] };
  let dataset;
  try {
    dataset = read(path);
  } catch (err) {
    out.error = `not readable by dcmjs: ${err.message}`;
    return out;
  }
  const content = asArray(dataset.ContentSequence);
  const measurements = content.find((item) => codeOf(item).meaning === "Imaging Measurements");
  const groups = asArray(measurements && measurements.ContentSequence).filter(
    (item) => codeOf(item).meaning === "Measurement Group",
  );
  out.groups = groups.length;
  try {
    quietly(() =>
      MeasurementReport.generateToolState(dataset, imageIds, imageToWorldCoords, metadata),
    );
    out.loaded = true;
  } catch (err) {
    out.error = `generateToolState failed: ${err.message}`;
  }
  for (const group of groups) {
    const items = asArray(group.ContentSequence);
    const tracking = items.find((item) => codeOf(item).meaning === "Tracking Identifier");
    const text = tracking ? tracking.TextValue : "";
    if (!Length.isValidCornerstoneTrackingIdentifier(text)) continue;
    const comment = items.find((item) => {
      const code = codeOf(item);
      return code.scheme === COMMENT.scheme && code.value === COMMENT.value;
    });
    try {
      const state = quietly(() =>
        Length.getMeasurementData(group, imageIds, imageToWorldCoords, metadata),
      );
      const { annotation } = state;
      const stats = Object.values(annotation.data.cachedStats)[0] || {};
      out.lengths.push({
        trackingIdentifier: text,
        label: comment ? comment.TextValue : null,
        dcmjsLabel: annotation.metadata.label || null,
        length: Number(stats.length),
        image: state.sopInstanceUid,
        frame: annotation.data.frameNumber === undefined ? null : annotation.data.frameNumber,
        points: annotation.data.handles.points,
      });
    } catch (err) {
      out.lengths.push({ trackingIdentifier: text, error: err.message });
    }
  }
  return out;
}

const files = process.argv.slice(2).map(describe);
const version = JSON.parse(
  fs.readFileSync(require.resolve("dcmjs").replace(/build[\\/].*$/, "package.json"), "utf8"),
).version;
process.stdout.write(JSON.stringify({ dcmjs: version, files }));
