// The map explorer (/map): turns #map into a MapLibre map over the style served at
// /map/style.json, wires the layer checkboxes, popups, the "zoom to the municipality"
// button, the permalink (#map=zoom/lat/lon&layers=a,b) and the "search in this area" link.
// The page works without this script: the layer list links to every dataset.
// Data from the layers is put in the page with textContent only, never as HTML.
import * as maplibregl from '../vendor/maplibre-gl/maplibre-gl.mjs';

const el = document.getElementById('map');
const boxes = Array.from(document.querySelectorAll('input[data-layer]'));
const homeButton = document.getElementById('zoom-home');
const areaLink = document.getElementById('search-area');

// Legend colours come as data attributes: the page's CSP forbids style attributes, not
// styles set from a script.
for (const swatch of document.querySelectorAll('[data-swatch]')) {
  swatch.style.setProperty('--swatch', swatch.dataset.swatch);
}

const bboxOf = (s) => {
  const b = (s || '').split(',').map(Number);
  return b.length === 4 && b.every(Number.isFinite) ? [[b[0], b[1]], [b[2], b[3]]] : null;
};

// The hash's parameters, as MapLibre's own `hash: 'map'` option reads them.
const hashParams = () => new URLSearchParams(window.location.hash.slice(1));

function writeLayersToHash() {
  const params = hashParams();
  params.set('layers', boxes.filter((b) => b.checked).map((b) => b.dataset.layer).join(','));
  const hash = '#' + decodeURIComponent(params.toString());
  history.replaceState(history.state, '', window.location.pathname + window.location.search + hash);
}

// The layers the hash asks for win over the checkboxes' defaults.
const fromHash = hashParams().get('layers');
if (fromHash !== null) {
  const wanted = new Set(fromHash.split(',').filter(Boolean));
  for (const b of boxes) b.checked = wanted.has(b.dataset.layer);
}

async function loadStyle() {
  const ours = await (await fetch(el.dataset.style)).json();
  const visible = new Set(boxes.filter((b) => b.checked).map((b) => b.dataset.layer));
  for (const layer of ours.layers) {
    const id = layer.metadata && layer.metadata['portale:layer'];
    if (id) layer.layout = { ...layer.layout, visibility: visible.has(id) ? 'visible' : 'none' };
  }
  const external = ours.metadata && ours.metadata['portale:basemap'];
  if (!external) return ours;
  try {
    const base = await (await fetch(external)).json();
    return {
      ...base,
      sources: { ...base.sources, ...ours.sources },
      layers: [...(base.layers || []), ...ours.layers],
    };
  } catch (e) {
    console.warn('basemap style not loaded, drawing the layers alone', e);
    return { ...ours, layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#dde5ec' } }, ...ours.layers] };
  }
}

// One section per feature under the click (the topmost first, at most 5), so that a
// feature hidden under another one's symbol is still shown.
function popupContent(features) {
  const root = document.createElement('div');
  root.className = 'portale-popup';
  for (const feature of features) {
    // Sources are named after the datasets (the basemap's too).
    const box = boxes.find((b) => b.dataset.layer === feature.source);
    const section = document.createElement('section');
    const h = document.createElement('h2');
    h.textContent = box ? box.dataset.title : feature.source;
    section.appendChild(h);
    const table = document.createElement('table');
    let rows = 0;
    for (const [key, value] of Object.entries(feature.properties || {})) {
      if (value === null || value === undefined || value === '') continue;
      if (rows++ >= 30) break;
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = key;
      const td = document.createElement('td');
      td.textContent = String(value);
      tr.append(th, td);
      table.appendChild(tr);
    }
    section.appendChild(table);
    if (box) {
      const p = document.createElement('p');
      const a = document.createElement('a');
      a.href = box.dataset.url;
      a.textContent = el.dataset.popupLink;
      p.appendChild(a);
      section.appendChild(p);
    }
    root.appendChild(section);
  }
  return root;
}

function updateAreaLink(map) {
  const b = map.getBounds();
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v)).toFixed(4);
  const bbox = [
    clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90),
    clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90),
  ].join(',');
  const url = new URL(el.dataset.search, window.location.href);
  url.searchParams.set('bbox', bbox);
  areaLink.href = url.toString();
}

async function start() {
  const style = await loadStyle();
  const map = new maplibregl.Map({
    container: el,
    style,
    bounds: bboxOf(el.dataset.bounds) || undefined,
    fitBoundsOptions: { padding: 20 },
    hash: 'map',
    attributionControl: { compact: true },
    // The canvas is a region of its own inside #map: a short name, not #map's long one.
    locale: { 'Map.Title': el.dataset.title, 'Popup.Close': el.dataset.close },
  });
  window.portaleMap = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  map.addControl(new maplibregl.ScaleControl());

  const styleLayersOf = (id) => (map.getStyle().layers || [])
    .filter((l) => l.metadata && l.metadata['portale:layer'] === id)
    .map((l) => l.id);
  const interactive = () => boxes.filter((b) => b.checked).flatMap((b) => styleLayersOf(b.dataset.layer));
  // Our basemap's boundaries answer a click too, when no data layer does.
  const basemap = () => (map.getStyle().layers || [])
    .filter((l) => l.source && l.metadata && l.metadata['portale:role'] === 'basemap')
    .map((l) => l.id);
  const hits = (point) => {
    const data = interactive().filter((id) => map.getLayer(id));
    const found = data.length > 0 ? map.queryRenderedFeatures(point, { layers: data }) : [];
    if (found.length > 0) return found;
    const base = basemap();
    return base.length > 0 ? map.queryRenderedFeatures(point, { layers: base }).slice(0, 1) : [];
  };

  for (const box of boxes) {
    box.addEventListener('change', () => {
      for (const id of styleLayersOf(box.dataset.layer)) {
        map.setLayoutProperty(id, 'visibility', box.checked ? 'visible' : 'none');
      }
      writeLayersToHash();
    });
  }

  const popup = new maplibregl.Popup({ maxWidth: '340px', closeButton: true });
  map.on('click', (e) => {
    const found = hits(e.point);
    if (found.length === 0) return;
    // The same feature can come from several style layers (fill and outline).
    const seen = new Set();
    const distinct = found.filter((f) => {
      const key = f.source + '|' + (f.id ?? JSON.stringify(f.properties));
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    }).slice(0, 5);
    popup.setLngLat(e.lngLat).setDOMContent(popupContent(distinct)).addTo(map);
  });
  map.on('mousemove', (e) => {
    const data = interactive().filter((id) => map.getLayer(id));
    const hit = data.length > 0 && map.queryRenderedFeatures(e.point, { layers: data }).length > 0;
    map.getCanvas().style.cursor = hit ? 'pointer' : '';
  });

  const home = bboxOf(el.dataset.home);
  if (home && homeButton) {
    homeButton.hidden = false;
    homeButton.addEventListener('click', () => map.fitBounds(home, { padding: 20 }));
  }
  map.on('moveend', () => updateAreaLink(map));
  map.once('load', () => {
    updateAreaLink(map);
    if (fromHash === null) writeLayersToHash();
  });
}

start().catch((e) => {
  console.error(e);
  const p = document.createElement('p');
  p.className = 'p-3';
  p.textContent = String(e);
  el.appendChild(p);
});
