#!/usr/bin/env bash
# Installs what the tests need from the system on Debian: Xvfb and Mesa (napari needs OpenGL),
# the Qt platform libraries, the independent DICOM validators (DCMTK, dicom3tools) and Chromium
# (the HTML report test), Node.js and npm (the dcmjs test reads our SRs as OHIF does), Orthanc
# and its DICOMweb plugin (the reference PACS: the PACS tests start their own Orthanc on loopback,
# not the package's service). Does nothing when everything is already there.
set -euo pipefail
packages=(
  xvfb xauth libgl1 libgl1-mesa-dri libglx-mesa0 libegl1 libopengl0 libdbus-1-3
  libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-xinerama0 libxcb-xinput0 libxcb-xfixes0 libxcb-shape0
  libxcb-cursor0 libfontconfig1 x11-utils fonts-dejavu-core
  dcmtk dicom3tools chromium
  orthanc orthanc-dicomweb
)
# Node.js from another source (nvm, NodeSource) is fine: only ask Debian for it when absent
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "install-system-deps: not a Debian system; please install: ${missing[*]}" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-system-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
