set terminal svg size 760,480 dynamic font 'sans,12' background '#ffffff'
set grid
set key outside right top
set output 'filtered-50pct.svg'
set title 'filtered (~50% of items kept): recall@10 vs queries/s'
set xlabel 'recall@10'
set ylabel 'queries/s (1 thread, CPU time)'
set logscale y
plot 'filtered-50pct.dat' index 0 using 2:3 with linespoints lw 2 pt 7 title 'hnswlib_postfilter', \
     'filtered-50pct.dat' index 1 using 2:3 with linespoints lw 2 pt 7 title 'hnswlib_infilter', \
     'filtered-50pct.dat' index 2 using 2:3 with linespoints lw 2 pt 7 title 't4dx'
