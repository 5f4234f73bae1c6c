set terminal svg size 760,480 dynamic font 'sans,12' background '#ffffff'
set grid
set key outside right top
set output 'wasm.svg'
set title 'WebAssembly vs native: recall@10 vs queries/s'
set xlabel 'recall@10'
set ylabel 'queries/s (1 thread, CPU time)'
set logscale y
plot 'wasm.dat' index 0 using 2:3 with linespoints lw 2 pt 7 title 't4dx-wasm-node', \
     'wasm.dat' index 1 using 2:3 with linespoints lw 2 pt 7 title 't4dx-wasm-node-batch100', \
     'wasm.dat' index 2 using 2:3 with linespoints lw 2 pt 7 title 't4dx-wasm-chromium', \
     'wasm.dat' index 3 using 2:3 with linespoints lw 2 pt 7 title 't4dx-wasm-chromium-batch100', \
     'wasm.dat' index 4 using 2:3 with linespoints lw 2 pt 7 title 'hnswlib-wasm-chromium', \
     'wasm.dat' index 5 using 2:3 with linespoints lw 2 pt 7 title 'hnswlib-wasm-chromium-batch100', \
     'wasm.dat' index 6 using 2:3 with linespoints lw 2 pt 7 title 't4dx native (same rows)'
