import type { backend_util } from '@tensorflow/tfjs';

/**
 * Visits every (output pixel, filter tap) pair of a 2-D window operation whose tap falls inside the
 * image (padding taps are skipped), with flat pixel indices: multiply by the channel count for a heap
 * offset. Shared by the im2col, col2im and depthwise loops; the per-channel work stays in `visit`.
 */
export function forEachWindowTap(
  info: backend_util.Conv2DInfo,
  visit: (inputPixel: number, outputPixel: number, tap: number) => void,
): void {
  const { batchSize, inHeight, inWidth, outHeight, outWidth, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let r = 0; r < filterHeight; r++) {
        const ih = oh * strideHeight + r * dilationHeight - info.padInfo.top;
        if (ih < 0 || ih >= inHeight) continue;
        const inputRow = (b * inHeight + ih) * inWidth;
        const outputRow = (b * outHeight + oh) * outWidth;
        for (let ow = 0; ow < outWidth; ow++) {
          for (let c = 0; c < filterWidth; c++) {
            const iw = ow * strideWidth + c * dilationWidth - info.padInfo.left;
            if (iw >= 0 && iw < inWidth) visit(inputRow + iw, outputRow + ow, r * filterWidth + c);
          }
        }
      }
    }
  }
}
