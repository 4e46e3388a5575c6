/**
 * The drawing pad: white strokes on black, turned into an MNIST-like 28×28 digit (the ink's
 * bounding box scaled to fit 20×20, centred by its centre of mass, as MNIST was prepared).
 */
export class DrawingPad {
  private drawing = false;
  private inked = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly onDigit: (pixels: Float32Array) => void,
  ) {
    const context = this.context();
    context.fillStyle = '#000';
    context.fillRect(0, 0, canvas.width, canvas.height);
    canvas.addEventListener('pointerdown', (event) => {
      this.drawing = true;
      canvas.setPointerCapture(event.pointerId);
      context.beginPath();
      context.moveTo(...this.at(event));
    });
    canvas.addEventListener('pointermove', (event) => {
      if (!this.drawing) return;
      context.strokeStyle = '#fff';
      context.lineWidth = canvas.width / 12;
      context.lineCap = 'round';
      context.lineJoin = 'round';
      context.lineTo(...this.at(event));
      context.stroke();
      this.inked = true;
    });
    const finish = (): void => {
      if (!this.drawing) return;
      this.drawing = false;
      if (this.inked) this.onDigit(this.digit());
    };
    canvas.addEventListener('pointerup', finish);
    canvas.addEventListener('pointercancel', finish);
  }

  clear(): void {
    const context = this.context();
    context.fillStyle = '#000';
    context.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.inked = false;
  }

  private context(): CanvasRenderingContext2D {
    return this.canvas.getContext('2d', { willReadFrequently: true })!;
  }

  private at(event: PointerEvent): [number, number] {
    const box = this.canvas.getBoundingClientRect();
    return [((event.clientX - box.left) / box.width) * this.canvas.width, ((event.clientY - box.top) / box.height) * this.canvas.height];
  }

  /** The drawing as 28×28 grey levels in [0, 1]. */
  digit(): Float32Array {
    const { width, height } = this.canvas;
    const ink = this.context().getImageData(0, 0, width, height).data;
    let top = height, left = width, bottom = -1, right = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (ink[(y * width + x) * 4]! > 0) {
          top = Math.min(top, y);
          bottom = Math.max(bottom, y);
          left = Math.min(left, x);
          right = Math.max(right, x);
        }
      }
    }
    const out = new Float32Array(28 * 28);
    if (bottom < 0) return out;
    const side = Math.max(bottom - top + 1, right - left + 1);
    const small = document.createElement('canvas');
    small.width = small.height = 20;
    const smallContext = small.getContext('2d', { willReadFrequently: true })!;
    smallContext.imageSmoothingQuality = 'high';
    const w = ((right - left + 1) / side) * 20;
    const h = ((bottom - top + 1) / side) * 20;
    smallContext.drawImage(this.canvas, left, top, right - left + 1, bottom - top + 1, (20 - w) / 2, (20 - h) / 2, w, h);
    const grey = smallContext.getImageData(0, 0, 20, 20).data;
    let mass = 0, cy = 0, cx = 0;
    for (let i = 0; i < 400; i++) {
      const v = grey[i * 4]! / 255;
      mass += v;
      cy += v * Math.floor(i / 20);
      cx += v * (i % 20);
    }
    const dy = Math.round(14 - cy / mass), dx = Math.round(14 - cx / mass);
    for (let i = 0; i < 400; i++) {
      const y = Math.floor(i / 20) + dy, x = (i % 20) + dx;
      if (y >= 0 && y < 28 && x >= 0 && x < 28) out[y * 28 + x] = grey[i * 4]! / 255;
    }
    return out;
  }
}
