set terminal svg size 760,480 dynamic font 'sans,12' background '#ffffff'
set grid
set key outside right top
set output 'ingest.svg'
set title 'ingest: items/s until durable and searchable (sync mode, batch, threads)'
set ylabel 'items/s'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -30
set terminal svg size 960,520 dynamic font 'sans,12' background '#ffffff'
plot for [c=2:13] 'ingest.dat' using c:xtic(1) title columnheader(c)
