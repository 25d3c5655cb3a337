// The dataset page's mini-map: a MapLibre map of the layer, from the layer's style
// (/styles/{id}.json, which names the TileJSON and the vector tiles), fitted to the
// layer's bounds. Without JavaScript, or if the map cannot start (no WebGL), the page
// keeps what the server put in its place (the layer's thumbnail, or a note).
//
// MapLibre (1 MB) is imported only when the map's place comes near the viewport, so a
// page read from the top is not slowed down by a map further down.

const container = document.getElementById('minimap');

async function start() {
  const fallback = Array.from(container.childNodes);
  try {
    const maplibregl = await import('../vendor/maplibre-gl/maplibre-gl.mjs');
    const bounds = (container.dataset.bounds || '').split(',').map(Number);
    const options = {
      container,
      style: container.dataset.style,
      attributionControl: { compact: true },
      cooperativeGestures: true,
    };
    if (bounds.length === 4 && bounds.every(Number.isFinite)) {
      options.bounds = [[bounds[0], bounds[1]], [bounds[2], bounds[3]]];
      options.fitBoundsOptions = { padding: 20, maxZoom: 16 };
    }
    container.replaceChildren();
    container.classList.add('portale-minimap-on');
    const map = new maplibregl.Map(options);
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  } catch (err) {
    // No WebGL, or MapLibre did not load: put the server's fallback back.
    container.classList.remove('portale-minimap-on');
    container.replaceChildren(...fallback);
    console.warn('minimap:', err);
  }
}

if (container) {
  if ('IntersectionObserver' in window) {
    const watch = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        watch.disconnect();
        start();
      }
    }, { rootMargin: '200px' });
    watch.observe(container);
  } else {
    start();
  }
}
